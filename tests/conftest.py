import matplotlib
import numpy as np

matplotlib.use("agg")
np.seterr(all="raise")
