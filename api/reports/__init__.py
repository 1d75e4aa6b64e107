"""Reports and exports for handlers and supervisors (issue 7): timeliness by the national
portal's rule, volumes, overdue lists, resolution time; CSV and DongBoHoSoMC exports.

`aggregate` is the pure arithmetic over register rows, `params` checks query parameters,
`service` does the I/O, `controllers` the HTTP routes.
"""
