// The engine's model, plan and feature-encoding types, which every ML.NET face here wraps.
global using MLExtensions.Diffusion.Features;
global using MLExtensions.Diffusion.Models;
global using MLExtensions.Diffusion.Plans;
