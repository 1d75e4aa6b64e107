"""The officer's device agent: today, the signing ceremony on a synced dossier
(`field.ceremony` maps a dossier onto signing's declaration; `field.cli` is `doorstep sign`)."""
