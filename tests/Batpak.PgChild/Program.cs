// One more instance of a PostgreSQL store, in its own process, playing one role for the multi-instance tests
// (tests/Batpak.Sdk.PostgreSql.Tests/MultiInstance). It talks to the test on stdout, one line per fact, flushed:
//   append <connection> <schema> <entities> <count> <tag>
//       prints "ready", waits for a line on stdin, then appends <count> events to entities cas:0..cas:<entities-1>
//       with ExpectedSequence (retrying a conflict with the new last sequence); prints "ack <id> <entity> <seq>
//       <global>" per acknowledged event and finally "done <conflicts>".
//   react <connection> <schema> <name> <delay-ms>
//       runs reactor <name> (each "src" event -> one "echo" event), sleeping <delay-ms> per event; prints "leading"
//       when its runner holds the lease and "handled <source-id>" per call; runs until killed or stdin closes.
using Batpak;
using Batpak.PgChild;
using Batpak.PostgreSql;

var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: append|react <connection> <schema> ...");
    return 2;
}

var options = new PostgresStoreOptions { ConnectionString = args[1], Schema = args[2], MaxReadConnections = 2, PollInterval = TimeSpan.FromMilliseconds(200) };
switch (args[0])
{
    case "append":
        return Roles.Append(options, int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture), args[5], output);
    case "react":
        return await Roles.ReactAsync(options, args[3], int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture), output);
    default:
        Console.Error.WriteLine($"unknown role \"{args[0]}\"");
        return 2;
}
