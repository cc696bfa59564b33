from agentry.cli import main

main()
