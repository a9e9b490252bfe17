from dpsheets.cli import main

main()
