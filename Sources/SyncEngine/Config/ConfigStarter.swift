extension CrsyncConfig {
    /// The file `crsync init` writes: every setting with its default and a line on what it does. It
    /// parses as it is (tests hold it to that); a person changes the server and the folders.
    public static let starter = #"""
        # crsync configuration. Lines starting with # are comments.
        # Durations are seconds (300, 2.5) or strings like "300ms", "2s", "5m", "1h30m", "1d".

        # The Cloudreve server to upload to. Sign in with `crsync login`; no password is kept in this file.
        [server]
        url = "https://cloud.example.com"
        email = "me@example.com"

        # More servers, each picked by a [[sync]] table with server = "NAME":
        # [servers.work]
        # url = "https://cloud.work.example"
        # email = "me@work.example"

        [upload]
        # Files uploaded at once (1 to 64).
        workers = 4
        # Chunks of one file sent at once (1 to 16); the server's storage policy may allow fewer.
        chunk_concurrency = 4
        # A changed file is uploaded once it has stayed unchanged this long...
        quiet_seconds = 2
        # ...but no later than this after it first changed, even if it keeps changing.
        max_delay = "5m"
        # How often every folder is walked in full, to catch changes the watcher missed.
        rescan_interval = "1h"
        # Upload speed limit, written as for rclone's --bwlimit: "off", "512K", "8M" (binary units per
        # second; a bare number is KiB/s), or a timetable such as "08:00,2M 19:00,10M 23:00,off".
        bandwidth = "off"
        # Cancel unfinished uploads that other clients left in the synced folders, once they expired.
        clean_orphans = true

        [log]
        # trace, debug, info, notice, warning, error or critical.
        level = "info"
        # "human" or "json"; when not set, human-readable on a terminal.
        # format = "json"

        # Prometheus metrics:
        # [metrics]
        # addr = "127.0.0.1:9464"

        # One [[sync]] table for each local folder to keep uploaded. Folders may not overlap.
        [[sync]]
        local = "~/Documents"
        remote = "cloudreve://my/Documents"
        # What a local delete does on the server: "trash" (restorable from Cloudreve's trash) or "keep".
        deletes = "trash"
        # Paths not to upload; a trailing / means a folder.
        exclude = ["*.tmp", "*.swp", "node_modules/"]
        # server = "work"   # a [servers.NAME] profile; without it, [server]

        # [[sync]]
        # local = "/srv/photos"
        # remote = "cloudreve://my/Photos"
        # deletes = "keep"
        """#
}
