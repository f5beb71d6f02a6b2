import io
import json
import logging

from ioc.logs import configure_logging


def test_json_logs_are_one_object_per_line_with_extras_and_diacritics() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        logging.getLogger("ioc.test").warning("mất kết nối %s", "Ân Thi", extra={"area": "12097"})
        logging.getLogger("ioc.test").debug("hidden")
    finally:
        configure_logging("WARNING", "text")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["message"] == "mất kết nối Ân Thi"
    assert (
        entry["area"] == "12097" and entry["level"] == "WARNING" and entry["logger"] == "ioc.test"
    )
    assert "Ân Thi" in lines[0]


def test_text_logs_are_human_readable() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "text", stream=stream)
    try:
        logging.getLogger("ioc.test").info("Kafka sẵn sàng")
    finally:
        configure_logging("WARNING", "text")
    assert stream.getvalue().rstrip().endswith("INFO    ioc.test: Kafka sẵn sàng")
