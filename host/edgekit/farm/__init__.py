"""edgekit's rig farm on labgrid (coordinator, exporters, places; https://labgrid.readthedocs.io).

labgrid 26.x depends on `pyserial-labgrid`, a fork that installs the same `serial` package as
pyserial (docs/SOURCES.md §1), so labgrid lives in its own venv (`.venv-labgrid`, from
requirements-labgrid.lock, made by scripts/bootstrap.sh) and edgekit drives its commands as
subprocesses (lg.py). labgrid_side.py is loaded by labgrid there; the HIL suite runs there too
under labgrid's pytest plugin (edgekit is installed into that venv without its dependencies).

- exporter_config.py: a rig YAML → the labgrid exporter YAML publishing its resources
- twinhost.py: an emulated twin as an exporter-side bench: a fixed serial TCP port + a power switch
- up.py: `edgekit farm up`, a loopback coordinator + exporter publishing two coral twins as places
- place.py: `edgekit hil run --place`: acquire, resolve, power, flash (SMP), run, release; a place's
  provenance; ready_target() for the suite under labgrid's pytest plugin (`--lg-env`)
- env.py: `edgekit farm env --place N`: the labgrid environment YAML for that
"""
