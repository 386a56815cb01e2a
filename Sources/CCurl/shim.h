#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one typed wrapper per
// argument type.
static inline CURLcode crsync_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode crsync_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode crsync_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode crsync_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode crsync_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*crsync_io_callback)(char *buffer, size_t size, size_t nitems, void *userdata);
static inline CURLcode crsync_setopt_io(CURL *h, CURLoption o, crsync_io_callback v) { return curl_easy_setopt(h, o, v); }
typedef int (*crsync_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode crsync_setopt_xferinfo(CURL *h, CURLoption o, crsync_xferinfo_callback v) { return curl_easy_setopt(h, o, v); }
typedef int (*crsync_seek_callback)(void *userdata, curl_off_t offset, int origin);
static inline CURLcode crsync_setopt_seek(CURL *h, CURLoption o, crsync_seek_callback v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode crsync_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode crsync_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode crsync_getinfo_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
