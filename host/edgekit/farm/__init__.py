"""edgekit's rig farm on labgrid (coordinator, exporters, places; https://labgrid.readthedocs.io).

labgrid 26.x depends on `pyserial-labgrid`, a fork that installs the same `serial` package as
pyserial (docs/SOURCES.md §1), so labgrid lives in its own venv (`.venv-labgrid`, from
requirements-labgrid.lock, made by scripts/bootstrap.sh) and edgekit drives its commands as
subprocesses (lg.py). labgrid_side.py is the one module that runs inside that venv.

- exporter_config.py: a rig YAML → the labgrid exporter YAML publishing its resources
- twinhost.py: an emulated twin as an exporter-side bench: a fixed serial TCP port + a power switch
- up.py: `edgekit farm up`, a loopback coordinator + exporter publishing two coral twins as places
- place.py: `edgekit hil run --place`: acquire, resolve, power, run, release; a place's provenance
"""
