"""Files: binaries in S3 (streamed or presigned multipart), metadata in Cassandra."""
