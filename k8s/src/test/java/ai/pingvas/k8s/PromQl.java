package ai.pingvas.k8s;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough PromQL to find which metrics a query reads: a scanner that skips strings, label
 * matchers, ranges, numbers, functions, keywords, grouping label lists and Grafana variables.
 */
final class PromQl {
  /** A metric a query selects, with its equality label matchers (templated values kept verbatim). */
  record Selector(String metric, Map<String, String> equals) {
  }

  private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "inf", "nan",
      "atan2", "start", "end");
  private static final Set<String> AGGREGATIONS = Set.of("sum", "min", "max", "avg", "group", "stddev", "stdvar",
      "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio");
  private static final Set<String> LABEL_LISTS = Set.of("by", "without", "on", "ignoring", "group_left",
      "group_right");
  private static final Pattern MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

  private PromQl() {
  }

  static List<Selector> selectors(String query) {
    List<Selector> found = new ArrayList<>();
    String s = query;
    int n = s.length();
    int i = 0;
    int depth = 0;
    int lastMetricEnd = -1;
    while (i < n) {
      char c = s.charAt(i);
      if (c == '"' || c == '\'' || c == '`') {
        i = skipString(s, i);
      } else if (c == '{') {
        int end = closing(s, i, '{', '}');
        // A matcher block directly after a metric belongs to it.
        if (lastMetricEnd >= 0 && s.substring(lastMetricEnd, i).isBlank()) {
          Selector last = found.remove(found.size() - 1);
          found.add(new Selector(last.metric(), matchers(s.substring(i + 1, end))));
        }
        lastMetricEnd = -1;
        i = end + 1;
      } else if (c == '[') {
        i = closing(s, i, '[', ']') + 1;
      } else if (c == '$') {
        i++;
        while (i < n && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) {
          i++;
        }
      } else if (Character.isDigit(c) || c == '.' && i + 1 < n && Character.isDigit(s.charAt(i + 1))) {
        i = skipNumber(s, i);
      } else if (Character.isLetter(c) || c == '_' || c == ':') {
        int start = i;
        while (i < n && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == ':')) {
          i++;
        }
        String word = s.substring(start, i);
        int next = i;
        while (next < n && Character.isWhitespace(s.charAt(next))) {
          next++;
        }
        boolean call = next < n && s.charAt(next) == '(' || AGGREGATIONS.contains(word) && startsWord(s, next);
        if (LABEL_LISTS.contains(word)) {
          i = call ? closing(s, next, '(', ')') + 1 : i;
        } else if (!KEYWORDS.contains(word.toLowerCase(java.util.Locale.ROOT)) && !call) {
          found.add(new Selector(word, Map.of()));
          lastMetricEnd = i;
          continue;
        }
        lastMetricEnd = -1;
      } else {
        if (c == '(') {
          depth++;
        } else if (c == ')') {
          depth--;
        }
        i++;
      }
    }
    if (depth != 0) {
      throw new IllegalArgumentException("unbalanced parentheses in: " + query);
    }
    return found;
  }

  private static Map<String, String> matchers(String block) {
    Map<String, String> equals = new LinkedHashMap<>();
    Matcher m = MATCHER.matcher(block);
    while (m.find()) {
      if (m.group(2).equals("=")) {
        equals.put(m.group(1), m.group(3));
      }
    }
    return equals;
  }

  /** An aggregation written "sum by (x) (...)" or "sum without (x) (...)". */
  private static boolean startsWord(String s, int i) {
    return s.startsWith("by", i) || s.startsWith("without", i);
  }

  private static int skipString(String s, int i) {
    char quote = s.charAt(i);
    int j = i + 1;
    while (j < s.length() && s.charAt(j) != quote) {
      j += s.charAt(j) == '\\' ? 2 : 1;
    }
    if (j >= s.length()) {
      throw new IllegalArgumentException("unterminated string in: " + s);
    }
    return j + 1;
  }

  private static int skipNumber(String s, int i) {
    int j = i;
    while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '.')) {
      if ((s.charAt(j) == 'e' || s.charAt(j) == 'E') && j + 1 < s.length()
          && (s.charAt(j + 1) == '-' || s.charAt(j + 1) == '+')) {
        j++;
      }
      j++;
    }
    return j;
  }

  private static int closing(String s, int open, char o, char c) {
    int depth = 0;
    for (int j = open; j < s.length(); j++) {
      char ch = s.charAt(j);
      if (ch == '"' || ch == '\'' || ch == '`') {
        j = skipString(s, j) - 1;
      } else if (ch == o) {
        depth++;
      } else if (ch == c && --depth == 0) {
        return j;
      }
    }
    throw new IllegalArgumentException("unbalanced '" + o + "' in: " + s);
  }
}
