"""Diamond Open Access journals on a node: the journals and their people (``journals``), submissions and their
files (``submissions``, ``files``), review rounds (``reviews``), decisions and their letters (``decisions``),
copyediting and production (``production``), issues (``issues``) and publication as records (``publishing``).

Every function takes the viewer and asks ``domain.journals``' rules through ``standing``; the web layer writes
the emails from what these functions return (as curation does).
"""
