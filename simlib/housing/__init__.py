"""Housing: the unified public lottery (统一摇号分房) and the allocation of the 8,866 flats.

inputs: the stock and the rules from data/housing/ (`load_housing_params`).
"""

from simlib.housing.inputs import HousingParams, load_housing_params

__all__ = ["HousingParams", "load_housing_params"]
