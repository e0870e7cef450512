package ai.pingvas.infra;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/** The Maven modules of the root POM, as far as the image pipeline cares: path, artifactId, packaging, properties. */
record Reactor(List<Module> modules) {

  /** One module; an image module sets jib.skip=false (the parent skips Jib everywhere else). */
  record Module(String path, String artifactId, String packaging, Map<String, String> properties) {
    boolean jibEnabled() {
      return "false".equals(properties.get("jib.skip"));
    }
  }

  static Reactor load(Path root) {
    List<Module> modules = new ArrayList<>();
    Element project = pom(root.resolve("pom.xml"));
    for (Element m : children(child(project, "modules").orElseThrow(), "module")) {
      String path = m.getTextContent().trim();
      Path pom = root.resolve(path).resolve("pom.xml");
      if (!Files.exists(pom)) {
        throw new AssertionError("root pom.xml lists module " + path + " but " + pom + " does not exist");
      }
      Element p = pom(pom);
      Map<String, String> properties = new LinkedHashMap<>();
      child(p, "properties").ifPresent(ps -> children(ps, null)
          .forEach(e -> properties.put(e.getTagName(), e.getTextContent().trim())));
      modules.add(new Module(path, text(p, "artifactId").orElseThrow(), text(p, "packaging").orElse("jar"),
          properties));
    }
    return new Reactor(List.copyOf(modules));
  }

  Optional<Module> byArtifactId(String artifactId) {
    return modules.stream().filter(m -> m.artifactId().equals(artifactId)).findFirst();
  }

  Optional<Module> byPath(String path) {
    return modules.stream().filter(m -> m.path().equals(path)).findFirst();
  }

  List<Module> imageModules() {
    return modules.stream().filter(Module::jibEnabled).toList();
  }

  private static Element pom(Path file) {
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      Document d = f.newDocumentBuilder().parse(file.toFile());
      return d.getDocumentElement();
    } catch (Exception e) {
      throw new AssertionError("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static Optional<String> text(Element parent, String name) {
    return child(parent, name).map(e -> e.getTextContent().trim());
  }

  private static Optional<Element> child(Element parent, String name) {
    return children(parent, name).stream().findFirst();
  }

  private static List<Element> children(Element parent, String name) {
    List<Element> found = new ArrayList<>();
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && (name == null || e.getTagName().equals(name))) {
        found.add(e);
      }
    }
    return found;
  }
}
