"""The fitted segmentation: :class:`SegmentModel`, fitting it, model files, typing tools,
scoring (also on Dask), comparing waves and support for a sensitive item by segment."""
