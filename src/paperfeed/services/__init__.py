"""What the site, the API and the digests ask of the store and the indexes, in one place each."""
