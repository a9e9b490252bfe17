"""The county web service: QR landing pages (一码), phone quiz confirmation (一题), staff pages.

Start it with ``dpsheets serve``; build the ASGI app with :func:`dpsheets.web.app.create_app`.
"""
