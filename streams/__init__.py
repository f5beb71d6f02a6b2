"""Stream processing: faust agents that aggregate events into windows (imported as `ioc.streams`)."""
