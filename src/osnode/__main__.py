from osnode.cli import main

main()
