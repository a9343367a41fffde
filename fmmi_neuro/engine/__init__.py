"""Engine: arrays in, information out (MI, TC, DTC, O-information, S-information).

Knows nothing about brains. Torch inside, numpy in and out.
"""
