"""Stream processing: faust agents aggregating events into windows (`ioc.streams`)."""
