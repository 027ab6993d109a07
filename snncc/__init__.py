"""snncc: a compiler from declarative spiking-network specs to training programs for the IPU and CPUs."""

__version__ = "0.1.0"
