using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace HierRec.Tests;

/// <summary>
/// Reads compiled IL to find where an assembly makes a TorchSharp <c>Scalar</c> the finalizer may free mid-call
/// (see <c>Scalars</c> in the library): a call to <c>Scalar.op_Implicit</c>, a call to a TorchSharp member that
/// reaches one inside TorchSharp (found by following TorchSharp's own calls, non-virtual ones), and a
/// <c>ToScalar</c> outside the allowed type. Each finding is "File.cs:line member" from the portable PDB beside the
/// assembly.
/// </summary>
internal static class ScalarScan
{
    /// <summary>The TorchSharp members (as "Type.Method(Param, …)") that make an implicit Scalar, directly or
    /// through calls.</summary>
    public static HashSet<string> UnsafeTorchSharpMembers(string torchSharpPath)
    {
        using var pe = new PEReader(File.OpenRead(torchSharpPath));
        var md = pe.GetMetadataReader();
        var implicitOps = new HashSet<int>();
        foreach (var th in md.TypeDefinitions)
        {
            var t = md.GetTypeDefinition(th);
            if (md.GetString(t.Name) != "Scalar" || md.GetString(t.Namespace) != "TorchSharp") continue;
            foreach (var mh in t.GetMethods())
                if (md.GetString(md.GetMethodDefinition(mh).Name) == "op_Implicit") implicitOps.Add(MetadataTokens.GetToken(mh));
        }
        if (implicitOps.Count == 0) throw new InvalidOperationException($"{torchSharpPath}: no Scalar.op_Implicit found; the scan cannot work.");
        var callees = new Dictionary<int, List<int>>();
        var unsafeMembers = new HashSet<int>(implicitOps);
        foreach (var th in md.TypeDefinitions)
            foreach (var mh in md.GetTypeDefinition(th).GetMethods())
            {
                var m = md.GetMethodDefinition(mh);
                if (m.RelativeVirtualAddress == 0) continue;
                var list = new List<int>();
                foreach (var (_, token) in Calls(pe.GetMethodBody(m.RelativeVirtualAddress)))
                    if ((token >> 24) == 0x06) list.Add(token); // a MethodDef of TorchSharp itself
                callees[MetadataTokens.GetToken(mh)] = list;
            }
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (var (method, calls) in callees)
                if (!unsafeMembers.Contains(method) && calls.Exists(unsafeMembers.Contains))
                {
                    unsafeMembers.Add(method);
                    changed = true;
                }
        }
        var names = new Signatures(md);
        return unsafeMembers.Select(t => names.Of(MetadataTokens.MethodDefinitionHandle(t & 0xFFFFFF))).ToHashSet();
    }

    /// <summary>
    /// Every call in <paramref name="assemblyPath"/> to a member of <paramref name="unsafeMembers"/>, and every
    /// <c>ToScalar</c> outside types named <paramref name="allowedType"/>.
    /// </summary>
    public static List<string> Findings(string assemblyPath, HashSet<string> unsafeMembers, string allowedType)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var md = pe.GetMetadataReader();
        var pdbPath = Path.ChangeExtension(assemblyPath, ".pdb");
        using var pdbProvider = File.Exists(pdbPath) ? MetadataReaderProvider.FromPortablePdbStream(File.OpenRead(pdbPath)) : null;
        var pdb = pdbProvider?.GetMetadataReader();
        var names = new Signatures(md);
        var findings = new List<string>();
        foreach (var th in md.TypeDefinitions)
        {
            var type = md.GetTypeDefinition(th);
            bool allowed = OuterName(md, type) == allowedType;
            foreach (var mh in type.GetMethods())
            {
                var m = md.GetMethodDefinition(mh);
                if (m.RelativeVirtualAddress == 0) continue;
                foreach (var (offset, token) in Calls(pe.GetMethodBody(m.RelativeVirtualAddress)))
                {
                    if ((token >> 24) != 0x0A) continue; // a MemberRef: a member of another assembly
                    var reference = md.GetMemberReference(MetadataTokens.MemberReferenceHandle(token & 0xFFFFFF));
                    if (reference.GetKind() != MemberReferenceKind.Method) continue;
                    string name = names.Of(reference);
                    bool scalarMade = name.StartsWith("ScalarExtensionMethods.ToScalar(", StringComparison.Ordinal) && !allowed;
                    if (unsafeMembers.Contains(name) || scalarMade) findings.Add($"{Line(pdb, mh, offset)} {name}");
                }
            }
        }
        return findings;
    }

    /// <summary>The type's outermost declaring type's name (a lambda's closure class belongs to its method's
    /// type).</summary>
    private static string OuterName(MetadataReader md, TypeDefinition type)
    {
        while (!type.GetDeclaringType().IsNil) type = md.GetTypeDefinition(type.GetDeclaringType());
        return md.GetString(type.Name);
    }

    private static string Line(MetadataReader? pdb, MethodDefinitionHandle method, int offset)
    {
        if (pdb is null) return "?";
        string where = "?";
        foreach (var point in pdb.GetMethodDebugInformation(method.ToDebugInformationHandle()).GetSequencePoints())
            if (point.Offset <= offset && !point.IsHidden)
                where = $"{Path.GetFileName(pdb.GetString(pdb.GetDocument(point.Document).Name))}:{point.StartLine}";
        return where;
    }

    /// <summary>(IL offset, metadata token) of every call, callvirt and newobj in a method body.</summary>
    private static List<(int Offset, int Token)> Calls(MethodBodyBlock body)
    {
        var calls = new List<(int, int)>();
        var il = body.GetILReader();
        while (il.RemainingBytes > 0)
        {
            int at = il.Offset;
            int first = il.ReadByte();
            var code = first == 0xFE ? (ILOpCode)(0xFE00 | il.ReadByte()) : (ILOpCode)first;
            if (code is ILOpCode.Call or ILOpCode.Callvirt or ILOpCode.Newobj) calls.Add((at, il.ReadInt32()));
            else if (code == ILOpCode.Switch) il.Offset += 4 * il.ReadInt32();
            else il.Offset += OperandSize(code);
        }
        return calls;
    }

    private static int OperandSize(ILOpCode code) => code switch
    {
        ILOpCode.Ldarg_s or ILOpCode.Ldarga_s or ILOpCode.Starg_s or ILOpCode.Ldloc_s or ILOpCode.Ldloca_s
            or ILOpCode.Stloc_s or ILOpCode.Ldc_i4_s or ILOpCode.Br_s or ILOpCode.Brfalse_s or ILOpCode.Brtrue_s
            or ILOpCode.Beq_s or ILOpCode.Bge_s or ILOpCode.Bgt_s or ILOpCode.Ble_s or ILOpCode.Blt_s
            or ILOpCode.Bne_un_s or ILOpCode.Bge_un_s or ILOpCode.Bgt_un_s or ILOpCode.Ble_un_s or ILOpCode.Blt_un_s
            or ILOpCode.Leave_s or ILOpCode.Unaligned => 1,
        ILOpCode.Ldarg or ILOpCode.Ldarga or ILOpCode.Starg or ILOpCode.Ldloc or ILOpCode.Ldloca or ILOpCode.Stloc => 2,
        ILOpCode.Ldc_i8 or ILOpCode.Ldc_r8 => 8,
        ILOpCode.Ldc_i4 or ILOpCode.Ldc_r4 or ILOpCode.Br or ILOpCode.Brfalse or ILOpCode.Brtrue or ILOpCode.Beq
            or ILOpCode.Bge or ILOpCode.Bgt or ILOpCode.Ble or ILOpCode.Blt or ILOpCode.Bne_un or ILOpCode.Bge_un
            or ILOpCode.Bgt_un or ILOpCode.Ble_un or ILOpCode.Blt_un or ILOpCode.Leave or ILOpCode.Jmp
            or ILOpCode.Calli or ILOpCode.Ldfld or ILOpCode.Ldflda or ILOpCode.Stfld or ILOpCode.Ldsfld
            or ILOpCode.Ldsflda or ILOpCode.Stsfld or ILOpCode.Ldstr or ILOpCode.Ldtoken or ILOpCode.Ldftn
            or ILOpCode.Ldvirtftn or ILOpCode.Box or ILOpCode.Unbox or ILOpCode.Unbox_any or ILOpCode.Castclass
            or ILOpCode.Isinst or ILOpCode.Newarr or ILOpCode.Ldelema or ILOpCode.Ldelem or ILOpCode.Stelem
            or ILOpCode.Ldobj or ILOpCode.Stobj or ILOpCode.Cpobj or ILOpCode.Initobj or ILOpCode.Sizeof
            or ILOpCode.Mkrefany or ILOpCode.Refanyval or ILOpCode.Constrained => 4,
        _ => 0,
    };

    /// <summary>"Type.Method(Param, …)" for a definition in one assembly and a reference to it from another
    /// alike.</summary>
    private sealed class Signatures(MetadataReader md) : ISignatureTypeProvider<string, object?>
    {
        public string Of(MethodDefinitionHandle handle)
        {
            var m = md.GetMethodDefinition(handle);
            var type = md.GetTypeDefinition(m.GetDeclaringType());
            string name = md.GetString(type.Name);
            for (var outer = type.GetDeclaringType(); !outer.IsNil; outer = md.GetTypeDefinition(outer).GetDeclaringType())
                name = md.GetString(md.GetTypeDefinition(outer).Name) + "." + name;
            return $"{name}.{md.GetString(m.Name)}({string.Join(", ", m.DecodeSignature(this, null).ParameterTypes)})";
        }

        public string Of(MemberReference reference)
        {
            string name = "?";
            if (reference.Parent.Kind == HandleKind.TypeReference)
            {
                var type = md.GetTypeReference((TypeReferenceHandle)reference.Parent);
                name = md.GetString(type.Name);
                for (var scope = type.ResolutionScope; scope.Kind == HandleKind.TypeReference;)
                {
                    var outer = md.GetTypeReference((TypeReferenceHandle)scope);
                    name = md.GetString(outer.Name) + "." + name;
                    scope = outer.ResolutionScope;
                }
            }
            var parameters = reference.DecodeMethodSignature(this, null).ParameterTypes;
            return $"{name}.{md.GetString(reference.Name)}({string.Join(", ", parameters)})";
        }

        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[,]";
        public string GetByReferenceType(string elementType) => "ref " + elementType;
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) =>
            $"{genericType}<{string.Join(",", typeArguments)}>";
        public string GetGenericMethodParameter(object? genericContext, int index) => "!!" + index;
        public string GetGenericTypeParameter(object? genericContext, int index) => "!" + index;
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
        public string GetPinnedType(string elementType) => elementType;
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) =>
            reader.GetString(reader.GetTypeDefinition(handle).Name);
        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) =>
            reader.GetString(reader.GetTypeReference(handle).Name);
        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle,
            byte rawTypeKind) => "spec";
    }
}
