import smtplib

import redis
import sqlalchemy as sa

from tests.fixtures.smtp import SmtpSink


def test_database_is_migrated(database_url: str) -> None:
    # given a fresh database
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    # then every table exists and is empty
    with engine.connect() as connection:
        assert connection.execute(sa.text("select count(*) from stores")).scalar() == 0
    engine.dispose()


def test_redis_is_flushed(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() == 0
    client.close()


def test_smtp_sink_receives(smtp_sink: SmtpSink) -> None:
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as smtp:
        smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: hi\r\n\r\nhello\r\n")
    [mail] = smtp_sink.wait_for(1)
    assert mail.message["Subject"] == "hi"
