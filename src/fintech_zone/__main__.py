from fintech_zone.cli import main

main()
