"""The intake worker: follows the central changes feed and receives submitted dossiers.

`decisions` holds the pure rules (what to write for a dossier, given what was checked);
`worker` does the I/O around them (store, PDF validation, code counter, TSA, checkpoint).
The signed declaration travels as the dossier document's attachment `declaration.pdf`;
the long-term-validation copy is stored on the outcome document as `declaration-lta.pdf`.
"""
