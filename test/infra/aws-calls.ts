import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');

/** An AWS SDK command the code of a function can send. */
export interface CommandCall {
  /** SDK package: `client-s3`, `client-dynamodb`, `client-kms`, `client-sqs` or `lib-dynamodb`. */
  readonly sdk: string;
  /** The operation, without the `Command` suffix: `PutObject`, `Query`… */
  readonly operation: string;
  /** File that builds the command (repository-relative), or the library that sends it. */
  readonly file: string;
  /**
   * The nearest file on the call path that acts on one known resource (one of `owners`), whose
   * resource the command is sent to; undefined when no such file is on the path.
   */
  readonly owner: string | undefined;
  /**
   * The fields its input literal names (`IndexName`, `VersionId`…), or `unknown` when the input
   * is not a literal or spreads another object (then any field may be set).
   */
  readonly input: readonly string[] | 'unknown';
}

/** Libraries that call AWS themselves: package → the file (under it) that sends the commands. */
export interface CallingLibrary {
  readonly packageName: string;
  /** The library file whose `new …Command(` calls are what it sends (ES build). */
  readonly sender: string;
  /**
   * The owner the library's calls are attributed to; absent: the owner of each piece of code that
   * uses it (a library each caller points at its own resource).
   */
  readonly owner?: string;
  /** Commands the library sends only for an option the code never gives it. */
  readonly unsent?: readonly string[];
}

const COMMAND_DECLARATION =
  /node_modules\/@aws-sdk\/(client-[a-z0-9-]+|lib-dynamodb)\/dist-types\/commands\/(\w+)Command\.d\.ts$/;

/** The TypeScript program of the repository (its tsconfig), built once per test file. */
export function projectProgram(entries: readonly string[]): ts.Program {
  const configPath = path.join(ROOT, 'tsconfig.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  return ts.createProgram({
    rootNames: entries.map((e) => path.join(ROOT, e)),
    options: { ...parsed.options, noEmit: true },
  });
}

const isProjectFile = (sf: ts.SourceFile) =>
  !sf.isDeclarationFile && !sf.fileName.includes(`${path.sep}node_modules${path.sep}`);

const relative = (fileName: string) => path.relative(ROOT, fileName).split(path.sep).join('/');

function inputFields(argument: ts.Expression | undefined): CommandCall['input'] {
  if (!argument) return [];
  if (!ts.isObjectLiteralExpression(argument)) return 'unknown';
  const names: string[] = [];
  for (const p of argument.properties) {
    if (ts.isSpreadAssignment(p) || !p.name) return 'unknown';
    names.push(p.name.getText());
  }
  return names.sort();
}

/**
 * Every AWS command the handler of `entry` can send: a walk of the code reachable from the
 * module (its top-level code, then every function, method, constructor and accessor referenced
 * from reached code, resolved by the type checker), collecting each `new <Name>Command(…)` of
 * the AWS SDK. Reaching is by reference, so a callback passed to a library counts as called; a
 * method reached through an interface counts every project class method of that name in a module
 * the handler loads (a class whose module is never imported has no instance to call). Calls
 * made by `libraries` are added when the reached code references the library.
 */
export function reachableCommands(
  program: ts.Program,
  entry: string,
  owners: ReadonlySet<string>,
  libraries: readonly CallingLibrary[] = [],
): CommandCall[] {
  return new ReachableCode(program, owners, libraries).commandsOf(entry);
}

/** One walk of the code reachable from an entry (see {@link reachableCommands}). */
class ReachableCode {
  private readonly checker: ts.TypeChecker;
  private readonly calls = new Map<string, CommandCall>();
  private readonly seen = new Set<string>();
  private readonly loaded = new Set<string>();
  private readonly work: Array<{ node: ts.Node; owner: string | undefined }> = [];
  /** Libraries the reached code uses, with the owners of the code that uses them. */
  private readonly usedLibraries = new Map<CallingLibrary, Set<string | undefined>>();
  private readonly implementations = new Map<string, ts.Node[]>();
  /** Methods called through an interface: name → the owners they were called under. */
  private readonly interfaceCalls = new Map<string, Set<string | undefined>>();

  constructor(
    private readonly program: ts.Program,
    private readonly owners: ReadonlySet<string>,
    private readonly libraries: readonly CallingLibrary[],
  ) {
    this.checker = program.getTypeChecker();
  }

  commandsOf(entry: string): CommandCall[] {
    const entryFile = this.program.getSourceFile(path.join(ROOT, entry));
    if (!entryFile) throw new Error(`${entry} is not in the program`);
    // The entry's exports are called by Lambda: its whole top level is reached.
    this.loaded.add(entryFile.fileName);
    for (const statement of entryFile.statements) {
      this.enqueue(statement, this.ownerIn(entryFile, undefined));
    }
    do {
      while (this.work.length > 0) {
        const { node, owner } = this.work.pop()!;
        this.visit(node, owner);
      }
      this.dispatchInterfaceCalls();
    } while (this.work.length > 0);
    for (const [library, users] of this.usedLibraries) {
      for (const { sdk, operation } of commandsSentBy(library)) {
        if (library.unsent?.includes(operation)) continue;
        for (const owner of library.owner !== undefined ? [library.owner] : users)
          this.add({ sdk, operation, file: library.packageName, owner, input: 'unknown' });
      }
    }
    return [...this.calls.values()];
  }

  /** Reaches the implementations, in loaded modules, of the methods called through interfaces. */
  private dispatchInterfaceCalls(): void {
    for (const [name, owners] of this.interfaceCalls) {
      for (const impl of this.implementationsOf(name)) {
        if (!this.loaded.has(impl.getSourceFile().fileName)) continue;
        for (const owner of owners) this.reachDeclaration(impl, owner);
      }
    }
  }

  private add(call: CommandCall): void {
    this.calls.set(JSON.stringify(call), call);
  }

  private enqueue(node: ts.Node | undefined, owner: string | undefined): void {
    if (!node) return;
    const key = `${node.getSourceFile().fileName}:${node.pos}:${node.end}:${owner ?? ''}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.work.push({ node, owner });
  }

  private ownerIn(sf: ts.SourceFile, inherited: string | undefined): string | undefined {
    const file = relative(sf.fileName);
    return this.owners.has(file) ? file : inherited;
  }

  private visit(node: ts.Node, owner: string | undefined): void {
    if (ts.isTypeNode(node) && !ts.isExpressionWithTypeArguments(node)) return;
    if (ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) return;
    if (ts.isNewExpression(node)) this.record(node, owner);
    if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) this.reference(node, owner);
    ts.forEachChild(node, (child) => this.visit(child, owner));
  }

  /** A module's top-level code runs when it is first imported. */
  private load(sf: ts.SourceFile): void {
    if (this.loaded.has(sf.fileName)) return;
    this.loaded.add(sf.fileName);
    const owner = this.ownerIn(sf, undefined);
    for (const statement of sf.statements) {
      if (ts.isImportDeclaration(statement)) {
        if (statement.importClause?.isTypeOnly) continue;
        const target = this.checker.getSymbolAtLocation(
          statement.moduleSpecifier,
        )?.valueDeclaration;
        if (target && ts.isSourceFile(target) && isProjectFile(target)) this.load(target);
      } else if (ts.isVariableStatement(statement)) {
        for (const d of statement.declarationList.declarations) {
          // A function value runs only when referenced; anything else runs now.
          if (d.initializer && !isFunctionValue(d.initializer)) this.enqueue(d.initializer, owner);
        }
      } else if (ts.isClassDeclaration(statement)) {
        for (const member of statement.members) {
          if (ts.isClassStaticBlockDeclaration(member)) this.enqueue(member.body, owner);
          const isStatic = ts.canHaveModifiers(member)
            ? ts.getModifiers(member)?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword)
            : false;
          if (isStatic && ts.isPropertyDeclaration(member)) this.enqueue(member.initializer, owner);
        }
      } else if (
        !ts.isFunctionDeclaration(statement) &&
        !ts.isInterfaceDeclaration(statement) &&
        !ts.isTypeAliasDeclaration(statement)
      ) {
        this.enqueue(statement, owner);
      }
    }
  }

  /** Constructing a class runs its constructor, its field initializers and its base's. */
  private reachClass(decl: ts.ClassLikeDeclaration, owner: string | undefined): void {
    for (const member of decl.members) {
      if (ts.isConstructorDeclaration(member)) this.enqueue(member.body, owner);
      if (ts.isPropertyDeclaration(member)) this.enqueue(member.initializer, owner);
    }
    for (const clause of decl.heritageClauses ?? []) {
      if (clause.token === ts.SyntaxKind.ExtendsKeyword) this.enqueue(clause, owner);
    }
  }

  /** Every project class method or property named `name` (a call through an interface). */
  private implementationsOf(name: string): ts.Node[] {
    const known = this.implementations.get(name);
    if (known) return known;
    const found: ts.Node[] = [];
    this.implementations.set(name, found);
    const visit = (node: ts.Node) => {
      if (
        (ts.isMethodDeclaration(node) || ts.isPropertyDeclaration(node)) &&
        node.name.getText() === name &&
        ts.isClassLike(node.parent)
      ) {
        found.push(node);
      }
      ts.forEachChild(node, visit);
    };
    for (const sf of this.program.getSourceFiles()) if (isProjectFile(sf)) visit(sf);
    return found;
  }

  private reachDeclaration(decl: ts.Node, owner: string | undefined): void {
    const sf = decl.getSourceFile();
    if (!isProjectFile(sf)) {
      for (const library of this.libraries) {
        if (sf.fileName.includes(`/node_modules/${library.packageName}/`)) {
          const users = this.usedLibraries.get(library) ?? new Set<string | undefined>();
          this.usedLibraries.set(library, users.add(owner));
        }
      }
      return;
    }
    this.load(sf);
    const next = this.ownerIn(sf, owner);
    if (ts.isClassLike(decl)) this.reachClass(decl, next);
    else if (ts.isFunctionLike(decl) && 'body' in decl) this.enqueue(decl.body as ts.Node, next);
    else if (
      (ts.isVariableDeclaration(decl) ||
        ts.isPropertyDeclaration(decl) ||
        ts.isPropertyAssignment(decl)) &&
      decl.initializer &&
      isFunctionValue(decl.initializer)
    ) {
      this.enqueue(decl.initializer, next);
    } else if (
      ts.isMethodSignature(decl) ||
      (ts.isPropertySignature(decl) && decl.type && ts.isFunctionTypeNode(decl.type))
    ) {
      const name = decl.name.getText();
      const owners = this.interfaceCalls.get(name) ?? new Set<string | undefined>();
      this.interfaceCalls.set(name, owners.add(next));
    }
  }

  private reference(node: ts.Identifier | ts.PrivateIdentifier, owner: string | undefined): void {
    let symbol = this.checker.getSymbolAtLocation(node);
    if (!symbol) return;
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = this.checker.getAliasedSymbol(symbol);
    for (const decl of symbol.declarations ?? []) this.reachDeclaration(decl, owner);
  }

  private record(expression: ts.NewExpression, owner: string | undefined): void {
    let symbol = this.checker.getSymbolAtLocation(expression.expression);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) {
      symbol = this.checker.getAliasedSymbol(symbol);
    }
    const declaration = symbol?.declarations?.[0];
    const match = declaration?.getSourceFile().fileName.match(COMMAND_DECLARATION);
    if (!match) return;
    this.add({
      sdk: match[1],
      operation: match[2],
      file: relative(expression.getSourceFile().fileName),
      owner,
      input: inputFields(expression.arguments?.[0]),
    });
  }
}

function isFunctionValue(node: ts.Expression): boolean {
  return ts.isArrowFunction(node) || ts.isFunctionExpression(node);
}

/** The commands a library file builds (`new XCommand(`), with the SDK package it imports them from. */
function commandsSentBy(library: CallingLibrary): Array<{ sdk: string; operation: string }> {
  const file = path.join(ROOT, 'node_modules', library.packageName, library.sender);
  const source = fs.readFileSync(file, 'utf8');
  const imports = new Map<string, string>();
  for (const m of source.matchAll(/import\s*{([^}]*)}\s*from\s*['"]@aws-sdk\/([a-z0-9-]+)['"]/g)) {
    for (const name of m[1].split(',').map((n) => n.trim())) imports.set(name, m[2]);
  }
  const sent = [...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]);
  if (sent.length === 0) throw new Error(`${file} sends no command: is it still the sender?`);
  return [...new Set(sent)].map((operation) => {
    const sdk = imports.get(`${operation}Command`);
    if (!sdk)
      throw new Error(`${file}: ${operation}Command is not imported from an AWS SDK package`);
    return { sdk, operation };
  });
}
