"""One reader per published data layout, each returning a validated ``Data``.

================  =====================================================================
layout            files below the data root
================  =====================================================================
``sdcn``          ``sdcn/<name>/data/<name>.txt``, ``<name>_label.txt``,
                  ``graph/<name>_graph.txt`` or kNN ``graph/<name><k>_graph.txt``
``adgc``          ``adgc/<name>.zip`` with ``<name>_feat.npy``, ``_label.npy``, ``_adj.npy``
``planetoid``     ``planetoid/<Name>/raw/ind.<name>.*`` (PyG's Planetoid layout)
``npz``           ``amazon/<Name>/raw/amazon_electronics_<name>.npz``,
                  ``coauthor/<Name>/raw/ms_academic_<short>.npz`` (PyG's Amazon/Coauthor)
``ogb``           ``ogb/ogbn_<name>/`` as the official OGB archive unpacks
================  =====================================================================

All readers end in :func:`graphclust.data.to_graph`, so validation is shared.
"""

from graphclust.data.formats.adgc import read_adgc
from graphclust.data.formats.npz import read_npz
from graphclust.data.formats.ogb import read_ogb
from graphclust.data.formats.planetoid import read_planetoid
from graphclust.data.formats.sdcn import read_sdcn

__all__ = ["read_adgc", "read_npz", "read_ogb", "read_planetoid", "read_sdcn"]
