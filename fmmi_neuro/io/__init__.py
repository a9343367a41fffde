"""Loaders: fMRI images, fMRIPrep/BIDS derivatives and region tables -> ``RegionTimeSeries`` / ``Cohort``."""
