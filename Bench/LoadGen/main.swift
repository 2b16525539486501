import Glibc

// LoadGen: the Switchboard load generator (Bench/README.md). Subcommands:
//   config    write a broker config whose agent tokens and Twilio secret the LoadGen knows
//   messages  S1/S2/S5 and the smoke run: inbound SMS on assigned conversations
//   routing   S3: new conversations through enqueue → offer → accept (→ close)
//   idle      S4: N idle WebSockets, broker RSS per connection
// Exit status 0 = passed, 1 = FAILED (loss, duplicates, errors), 2 = usage or setup error.

signal(SIGPIPE, SIG_IGN)
let options = Options(Array(CommandLine.arguments.dropFirst()))
let status: Int32
switch options.command {
case "config":
    status = BenchConfig.write(options)
case "messages":
    let loop = Loop()
    status = MessagesRun(loop: loop, options: options).run()
case "routing":
    let loop = Loop()
    status = RoutingRun(loop: loop, options: options).run()
case "idle":
    let loop = Loop()
    status = IdleRun(loop: loop, options: options).run()
default:
    print("""
    usage: LoadGen config|messages|routing|idle [--option value]…
      config   --server H:P --redis-url URL --data-dir DIR --agents N --skills S (--capacity C | --capacity-min A --capacity-max B) --out FILE
      messages --target broker|baseline --server H:P --agents K --consoles F --contacts C --connections W
               --rate R (0 = as fast as answered) --duration S --warmup S --channel sms-s00 --visitors V
               --server-pid PID --redis H:P --label NAME
      routing  --server H:P --agents 1000 --skills 20 --connections W --duration S --server-pid PID
      idle     --server H:P --connections N --agents K --source-ips 8 --server-pid PID
    """)
    status = options.command == "help" ? 0 : 2
}
exit(status)
