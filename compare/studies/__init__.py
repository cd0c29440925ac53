"""Studies: a convergence study is a list of jobs (particle runs, continuum runs) and one assembly step.

- ``jobs``: the jobs of a study and how one job runs into its Dataset;
- ``reference``: the reference solution of a study (exact, or fv2 with its own error estimate);
- ``assembly``: errors, checks of the paper and fits, assembled into the study Dataset;
- ``report``: the text table, ``summary.md`` and the figures of a study;
- ``validate``: the jobs run in this process; ``sweep``: the same jobs on dask.distributed.
"""
