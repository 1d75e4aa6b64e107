"""The officer's device agent: the signing ceremony on a captured dossier (`field.ceremony`,
`doorstep sign`), the device's own store and identity (`field.device`), its signing
credential from the district CA (`field.enrollment`), the documents it writes
(`field.documents`), and its sync with the server (`field.sync`, `doorstep field sync`)."""
