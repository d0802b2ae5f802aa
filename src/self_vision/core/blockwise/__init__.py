"""Block-wise runs for volumes larger than memory: plan the blocks, train on a sample, write block by block."""
