from govlink.cli.main import main

main()
