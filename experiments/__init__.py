"""Fault-tolerance experiments on the local stack (`make experiment NAME=…`, `make experiments`)."""
