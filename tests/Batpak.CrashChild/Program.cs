// The crash child: appends with acknowledgements until it is killed (SIGKILL) by tests/Batpak.Sdk.Tests/Faults.
//
//   dotnet Batpak.CrashChild.dll <data-directory> [--seed N] [--workers N] [--segment-bytes N]
//       prints "ready" once the store is open, then one line per acknowledged event:
//       "ack <global-sequence> <entity> <entity-sequence> <event-id> <how>"
//   dotnet Batpak.CrashChild.dll <data-directory> --hold-lock
//       opens the store, prints "ready" and holds it (and its lock) until stdin closes; prints "locked" and
//       exits with 3 when another store holds the directory.
//   dotnet Batpak.CrashChild.dll <data-directory> --contend N
//       tries N times to open a writer on the directory (disposing any that opens at once) and prints
//       "second writer: N attempts, M admitted"; exits with 0 when M is 0, else 4.
//
// Worker w owns the entities "w{w}-e0".."w{w}-e2", so it knows each entity's next sequence before appending and
// writes CrashPayload.For(entity, sequence), which the test checks byte for byte.
using System.Globalization;
using Batpak;
using Batpak.CrashChild;

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: Batpak.CrashChild <data-directory> [--seed N] [--workers N] [--segment-bytes N] [--hold-lock] [--contend N]");
    return 2;
}

string directory = args[0];
int seed = 1;
int workers = 3;
long segmentBytes = 64 * 1024;
bool holdLock = false;
int contend = 0;
for (int i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--seed": seed = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--workers": workers = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--segment-bytes": segmentBytes = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--hold-lock": holdLock = true; break;
        case "--contend": contend = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}");
            return 2;
    }
}

var options = new BatpakOptions { DataDirectory = directory, SegmentMaxBytes = segmentBytes };
if (holdLock)
{
    try
    {
        using var held = new EventStore(options);
        Console.WriteLine("ready");
        Console.Out.Flush();
        _ = Console.In.ReadToEnd();
        return 0;
    }
    catch (StoreLockedException ex)
    {
        Console.WriteLine("locked " + ex.Message.ReplaceLineEndings(" "));
        Console.Out.Flush();
        return 3;
    }
}

if (contend > 0)
{
    int admitted = 0;
    for (int attempt = 0; attempt < contend; attempt++)
    {
        try
        {
            using var second = new EventStore(options);
            admitted++;
        }
        catch (StoreLockedException)
        {
            // refused, as it must be while the holder lives
        }
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"second writer: {contend} attempts, {admitted} admitted"));
    Console.Out.Flush();
    return admitted == 0 ? 0 : 4;
}

var output = new Lock();
using var store = new EventStore(options);
Console.WriteLine("ready");
Console.Out.Flush();

var tasks = new Task[workers];
for (int w = 0; w < workers; w++)
{
    int worker = w;
    tasks[w] = Task.Run(() => RunWorker(worker));
}

await Task.WhenAll(tasks).ConfigureAwait(false);
return 0;

async Task RunWorker(int worker)
{
    var random = new Random(HashCode.Combine(seed, worker));
    string[] entities = [$"w{worker}-e0", $"w{worker}-e1", $"w{worker}-e2"];
    long[] next = entities.Select(e => store.GetLastSequence(e) + 1).ToArray();
    while (true)
    {
        int op = random.Next(10);
        if (op < 6)
        {
            int j = random.Next(entities.Length);
            string entity = entities[j];
            long sequence = next[j];
            var coordinate = new Coordinate(entity, "crash");
            byte[] payload = CrashPayload.For(entity, sequence);
            AppendReceipt receipt;
            string how;
            if (op < 3)
            {
                receipt = store.Append(coordinate, CrashPayload.Kind, payload, new AppendOptions { Durable = true, ExpectedSequence = sequence - 1 });
                how = "durable";
            }
            else if (op < 5)
            {
                receipt = await store.AppendAsync(coordinate, CrashPayload.Kind, payload, new AppendOptions { ExpectedSequence = sequence - 1 }).ConfigureAwait(false);
                how = "async";
            }
            else
            {
                // Not durable: acknowledged once it is in the file, which a process crash does not undo.
                receipt = store.Append(coordinate, CrashPayload.Kind, payload, new AppendOptions { ExpectedSequence = sequence - 1 });
                how = "plain";
            }

            next[j]++;
            Report(receipt, entity, how);
        }
        else
        {
            int count = 2 + random.Next(4);
            var batch = new EventData[count];
            var names = new string[count];
            for (int k = 0; k < count; k++)
            {
                int j = random.Next(entities.Length);
                names[k] = entities[j];
                batch[k] = new EventData(new Coordinate(entities[j], "crash"), CrashPayload.Kind, CrashPayload.For(entities[j], next[j]));
                next[j]++;
            }

            IReadOnlyList<AppendReceipt> receipts = store.AppendBatch(batch, durable: true);
            for (int k = 0; k < count; k++)
            {
                Report(receipts[k], names[k], "batch");
            }
        }
    }
}

void Report(in AppendReceipt receipt, string entity, string how)
{
    string line = string.Create(CultureInfo.InvariantCulture, $"ack {receipt.GlobalSequence} {entity} {receipt.EntitySequence} {receipt.EventId} {how}");
    lock (output)
    {
        Console.WriteLine(line);
        Console.Out.Flush();
    }
}
