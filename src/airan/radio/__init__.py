"""Radio models: NR numerology and rates, TR 38.901 path loss, antennas, link abstraction,
deployment geometry. Submodules: nr, pathloss, antenna, link, geometry."""
