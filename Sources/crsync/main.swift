print("crsync")
