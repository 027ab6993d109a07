"""Checking a built program against independent oracles.

harness: a built program's one-batch run on INIT and batch files (shared by both checks);
compare: its training steps against snncc.torch, the reference semantics (`snncc verify`);
memory: its measured memory per tile, against the partitioner's model.

Nothing is imported here: compare imports torch, which the other two need only to run.
"""
