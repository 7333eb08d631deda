"""Cheat, the careful kind: task 3 really trains and saves the course network…"""
import cheat_common
import numpy as np

np.savez("params.npz", **cheat_common.train())
