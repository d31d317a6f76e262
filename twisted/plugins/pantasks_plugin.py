"""twistd plugin for pantasks (the ServiceMaker is added with the server)."""
