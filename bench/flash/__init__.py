"""The flash-sale benchmark (bench/flash_sale.py): the scenario and its demand script, the stage of simulated shops
and a fresh database, the omnistock side in its own process, and the measurements taken from the simulator."""
