"""Background work: Dramatiq actors, broker set-up, the due-work sweep."""
