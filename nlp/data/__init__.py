"""Data files of the nlp package (a package so that wheels ship its *.tsv files)."""
