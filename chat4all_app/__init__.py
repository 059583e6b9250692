"""Chat4All: a distributed messaging platform on Faust (Kafka), Cassandra and S3."""

__version__ = "0.1.0"
