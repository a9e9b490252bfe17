"""Printable Word documents with QR codes: templates, their content, rendering and PDF."""
