// The engine's folders are namespaces of their own for readers and users; inside, they are one engine.
global using Poplib.Fetch.Configuration;
global using Poplib.Fetch.Delivery;
global using Poplib.Fetch.Identity;
global using Poplib.Fetch.Observing;
global using Poplib.Fetch.Platform;
global using Poplib.Fetch.Scheduling;
global using Poplib.Fetch.State;
