from tradeplay.cli import main

main()
