return await new System.CommandLine.RootCommand("mldiffusion") { MLExtensions.Diffusion.Cli.Demo.DemoCommand.Create() }.Parse(args).InvokeAsync();
