import matplotlib
import numpy as np

matplotlib.use("agg")
# Every floating-point fault raises, except gradual underflow to zero: the exponentially small
# tails of upwind solutions and of smooth bumps underflow harmlessly.
np.seterr(all="raise", under="ignore")
