"""Reading Retry-After: delta-seconds or an HTTP date; anything else is no instruction."""

from datetime import UTC, datetime

from crawler.middlewares.retry_after import retry_after_seconds

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


def test_delta_seconds_are_read_as_given() -> None:
    assert retry_after_seconds(b"120") == 120.0
    assert retry_after_seconds(" 2 ") == 2.0


def test_an_http_date_is_the_time_left_until_then() -> None:
    assert retry_after_seconds(b"Sat, 28 Nov 2026 12:00:30 GMT", now=NOW) == 30.0


def test_a_date_in_the_past_means_now() -> None:
    assert retry_after_seconds("Sat, 28 Nov 2026 11:00:00 GMT", now=NOW) == 0.0


def test_absent_or_garbage_is_no_instruction() -> None:
    for value in (None, b"", b"soon", b"-5", b"1.5", "\x00\xff"):
        assert retry_after_seconds(value) is None, value
