"""The presentation layer: Results turned into tables and sentences, running nothing.

One module per domain (`simlib.present.<domain>`); the command line prints what these
return (as text or JSON) and the notebooks and the summary show the same tables, so an
answer is worded once.
"""
