"""Reading and writing the standard workbook: the register declarations, the template, the reader."""
